"""The app's models, one module per subject; the packages that own more of them (templates,
schedules, notifications, API tokens) keep theirs and are loaded from here, so Django finds them."""

from records.api.models import ApiToken as ApiToken
from records.copy_templates.models import CopyTemplate as CopyTemplate
from records.copy_templates.models import CopyTemplateVersion as CopyTemplateVersion
from records.copy_templates.models import TemplateQuerySet as TemplateQuerySet
from records.models.audit import AuditEvent as AuditEvent
from records.models.jobs import CopyJob as CopyJob
from records.models.jobs import JobQuerySet as JobQuerySet
from records.models.jobs import approval_expiry_cutoff as approval_expiry_cutoff
from records.models.plans import CopyPlan as CopyPlan
from records.models.plans import PlanChunk as PlanChunk
from records.models.profiles import AnyUser as AnyUser
from records.models.profiles import ConnectionProfile as ConnectionProfile
from records.models.profiles import ProfileQuerySet as ProfileQuerySet
from records.models.profiles import System as System
from records.models.profiles import manages_all_profiles as manages_all_profiles
from records.models.results import FileResult as FileResult
from records.models.results import RecordResult as RecordResult
from records.models.results import RowFix as RowFix
from records.notify.models import MailDelivery as MailDelivery
from records.notify.models import NotificationSettings as NotificationSettings
from records.notify.models import WebhookDelivery as WebhookDelivery
from records.notify.models import WebhookMessage as WebhookMessage
from records.schedules.models import CopySchedule as CopySchedule
from records.schedules.models import ScheduleRun as ScheduleRun
