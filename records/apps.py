from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Record Copier"

    def ready(self) -> None:
        # In ready(), as Django asks of the modules that register checks and signal receivers;
        # logins imports django-axes' models too, which exist only once the apps are loaded.
        from records import checks  # noqa: F401 - registers the system checks
        from records.accounts import logins
        from records.web import polled_user

        logins.connect_signals()
        polled_user.connect_signals()
