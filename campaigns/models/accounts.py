"""Who uses linktrack: users (signing in with an email address, two-step with an authenticator app), the orgs they
belong to, and credit top-ups."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models.common import TimeStamped


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """Signs in with an email address. Django's `is_staff` marks support staff."""

    username = None
    email = models.EmailField("email address", unique=True)
    # The summary email of a campaign they launched, once it has finished (campaigns.lifecycle.summary_email); turned off on
    # the Notifications page or by the email's own "stop these emails" link.
    campaign_summary_emails = models.BooleanField(
        "email me a summary when a campaign I launched has finished", default=True
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class Org(TimeStamped):
    name = models.CharField(max_length=200, unique=True)
    sms_link_tracking = models.BooleanField(
        default=False, help_text="Replace links in {#var#} slots by tracked short links. Support staff only."
    )
    link_tracking_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link_tracking_changed_at = models.DateTimeField(null=True, blank=True)
    credits = models.PositiveBigIntegerField(default=0, help_text="One credit is one SMS segment.")
    timezone = models.CharField(max_length=64, default="Asia/Kolkata")
    # How pages and summary emails write figures: 12,34,567 (lakh and crore) or 1,234,567. On for
    # orgs in India (migration 0020 turned it off for orgs on another clock).
    indian_number_grouping = models.BooleanField(
        default=True,
        help_text="Write figures in the Indian grouping (1,00,000; 12,34,567) rather than 100,000 and 1,234,567.",
    )
    short_domain = models.CharField(
        max_length=100,
        blank=True,
        help_text="Host of this org's short links (e.g. s.cplry.com), whitelisted on DLT under the org's headers. "
        "Empty: the deployment's SHORT_LINK_BASE_URL.",
    )
    short_link_with_scheme = models.BooleanField(
        default=False, help_text="Show https:// in front of short links in messages."
    )
    # Frequency cap (campaigns.sending.rules): at most this many promotional messages per customer and channel in
    # the last `frequency_cap_days` days; recipients over it are not sent. Empty: no cap.
    frequency_cap_messages = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="At most this many promotional messages per customer in the period. Empty: no limit.",
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(30)], help_text="The period, in days."
    )
    # Launch approval (campaigns.lifecycle.approval): a launched campaign waits until a second person of the org approves it.
    launch_needs_approval = models.BooleanField(
        default=False, help_text="A campaign is sent only once a second person of the org has approved its launch."
    )
    launch_approval_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    launch_approval_changed_at = models.DateTimeField(null=True, blank=True)
    # Low-credit alert (campaigns.credits.alerts): the org's campaign managers are emailed once when the balance falls
    # below this (empty: never), claimed with a conditional UPDATE of `credits_alert_sent_at` on the value read; a
    # top-up that brings the balance back to it or above arms the alert again.
    credits_alert_below = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Email the organisation's campaign managers when the credits fall below this. Empty: never.",
    )
    credits_alert_sent_at = models.DateTimeField(null=True, blank=True)
    # Attribution (campaigns.customers.attribution): a purchase counts for a campaign when it comes within this many
    # days (of the org's clock) after the campaign's message reached the customer.
    attribution_window_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="A purchase counts for a campaign when it is made within this many days after its message.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_cap_messages__isnull=True) | Q(frequency_cap_messages__gte=1),
                name="org_frequency_cap_messages_positive",
            ),
            models.CheckConstraint(
                condition=Q(frequency_cap_days__gte=1, frequency_cap_days__lte=30), name="org_frequency_cap_days_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def credits_below_alert(self) -> bool:
        """Whether the balance is under the level the org asked to be warned at (the campaign list's banner)."""
        return self.credits_alert_below is not None and self.credits < self.credits_alert_below


class CreditTopUp(models.Model):
    """Credits support staff added to an org (or took back, a negative amount), and why: the balance has a history.

    Campaigns spend credits through Org.credits directly (reserved per batch, released for what is not sent)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="credit_top_ups")
    amount = models.BigIntegerField()
    balance_after = models.PositiveBigIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="credittopup_amount_not_zero")]

    def __str__(self) -> str:
        return f"{self.amount:+} credits for {self.org} ({self.created_at:%Y-%m-%d})"


class Membership(TimeStamped):
    class Role(models.TextChoices):
        CAMPAIGN_MANAGER = "campaign_manager", "Campaign manager"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CAMPAIGN_MANAGER)
    # Who invited the user into the org (campaigns.accounts.team); when is `created_at`. Empty for memberships made in the
    # admin before invitations existed, or whose inviter was deleted.
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.get_role_display()})"


class Authenticator(models.Model):
    """A user's authenticator app for two-step sign-in (campaigns.accounts.two_step). Two-step sign-in is on once a code
    from the app confirmed it; until then it is being set up."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticator")
    # The TOTP secret, base32, stored as it is: Django has no field encryption, and the database is trusted with it
    # as it is with the password hashes (whoever reads this table could as well read those and the sessions).
    secret = models.CharField(max_length=32)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="When two-step sign-in was turned on.")
    # The last 30-second time step whose code was accepted: a code of that step or an earlier one is refused.
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "linktrack_authenticator"  # the table it had when it lived in linktrack

    def __str__(self) -> str:
        return f"authenticator of {self.user}"

    @property
    def is_on(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """One of the single-use codes that sign in when the phone is lost; only its SHA-256 is kept."""

    authenticator = models.ForeignKey(Authenticator, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "linktrack_recoverycode"  # the table it had when it lived in linktrack
        constraints = [
            models.UniqueConstraint(fields=["authenticator", "code_hash"], name="recoverycode_unique_per_authenticator")
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.authenticator.user}"
