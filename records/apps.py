from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Record Copier"

    def ready(self) -> None:
        from records import checks  # noqa: F401 - registers the system checks
        from records.accounts import logins

        logins.connect_signals()
