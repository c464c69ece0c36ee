"""Two-step sign-in pages: the code asked after the password, and the setup page in the header (turn on with an
authenticator app, recovery codes, turn off). The work is in campaigns.accounts.two_step; wrong codes and passwords here
count against the sign-in throttle of campaigns.accounts.sign_in, like wrong passwords on the sign-in page."""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.accounts import sign_in, two_step
from linktrack.common.client_ip import client_ip

WRONG_CODE = "That code is not right. Enter the code your app shows now, or an unused recovery code."


class SignInCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows for linktrack, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class AppCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows now for linktrack.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TurnOffForm(forms.Form):
    password = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="A code from your authenticator app, or an unused recovery code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


def _next_url(request) -> str:
    """The page to go to afterwards, when it is one of this site's own (never another site: no open redirect)."""
    url = request.POST.get("next") or request.GET.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _with_next(path: str, next_url: str) -> str:
    return f"{path}?{urlencode({'next': next_url})}" if next_url else path


def _refused(response, refusal: sign_in.Refusal):
    response.status_code = 429
    response["Retry-After"] = str(refusal.wait_seconds)
    return response


# --- The code after the password -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def two_step_sign_in(request):
    next_url = _next_url(request)
    pending = two_step.pending_sign_in(request.session)
    if pending is None:
        two_step.pending_sign_in_clear(request.session)
        messages.error(request, "Enter your email and password again: the code must follow them within 5 minutes.")
        return redirect(_with_next(reverse("login"), next_url))
    form = SignInCodeForm(request.POST if request.method == "POST" else None)
    refusal = None
    if form.is_valid():
        email, ip = pending.user.email, client_ip(request)
        refusal = sign_in.sign_in_refusal(email=email, ip=ip)
        if refusal:
            form.add_error(None, refusal.message)
        elif two_step.code_check(authenticator=pending.authenticator, code=form.cleaned_data["code"]):
            two_step.pending_sign_in_clear(request.session)
            sign_in.sign_in_failures_clear(email=email)
            auth_login(request, pending.user, backend=pending.backend)
            sign_in.signed_in_here_mark(request.session)
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        else:
            sign_in.sign_in_failure_record(email=email, ip=ip)
            form.add_error("code", WRONG_CODE)
    response = render(request, "registration/two_step_sign_in.html", {"form": form, "next": next_url})
    return _refused(response, refusal) if refusal else response


# --- The setup page ------------------------------------------------------------------------------------------------


def _setup_page(request, *, status: int = 200, **forms_given):
    authenticator = two_step.authenticator_for_user(request.user)
    context = {
        "authenticator": authenticator,
        "required": settings.STAFF_REQUIRE_TWO_STEP and request.user.is_staff,
        "next": _next_url(request),
        "confirm_form": forms_given.get("confirm_form") or AppCodeForm(),
        "turn_off_form": forms_given.get("turn_off_form") or TurnOffForm(),
        "codes_form": forms_given.get("codes_form") or AppCodeForm(),
    }
    if authenticator and authenticator.is_on:
        context["recovery_codes_left"] = two_step.recovery_codes_left(authenticator)
    elif authenticator:
        context["secret_grouped"] = two_step.secret_grouped(authenticator.secret)
        context["uri"] = two_step.provisioning_uri(secret=authenticator.secret, email=request.user.email)
        context["qr_svg"] = two_step.provisioning_qr_svg(context["uri"])
    return render(request, "registration/two_step.html", context, status=status)


def _recovery_codes_page(request, codes: list[str], *, regenerated: bool = False, sessions_ended: int | None = None):
    next_url = _next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL)
    context = {"codes": codes, "regenerated": regenerated, "next": next_url, "sessions_ended": sessions_ended}
    return render(request, "registration/two_step_recovery_codes.html", context)


@login_required
@require_http_methods(["GET"])
def two_step_setup(request):
    return _setup_page(request)


@login_required
@require_POST
def two_step_start(request):
    try:
        two_step.authenticator_start(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_with_next(reverse("two_step"), _next_url(request)))


@login_required
@require_POST
def two_step_confirm(request):
    form = AppCodeForm(request.POST)
    if form.is_valid():
        try:
            codes = two_step.authenticator_confirm(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            # Signed in elsewhere with only the password (perhaps a stolen one): those sessions end now. This one gets
            # a new key, as a sign-in would give it.
            ended = two_step.other_sessions_end(user=request.user, keep_session_key=request.session.session_key)
            request.session.cycle_key()
            return _recovery_codes_page(request, codes, sessions_ended=ended)
    return _setup_page(request, confirm_form=form)


@login_required
@require_POST
def two_step_turn_off(request):
    form = TurnOffForm(request.POST)
    if not form.is_valid():
        return _setup_page(request, turn_off_form=form)
    user, ip = request.user, client_ip(request)
    refusal = sign_in.sign_in_refusal(email=user.email, ip=ip)
    if refusal:
        form.add_error(None, refusal.message)
        return _refused(_setup_page(request, turn_off_form=form), refusal)
    try:
        two_step.two_step_turn_off(user=user, password=form.cleaned_data["password"], code=form.cleaned_data["code"])
    except ValidationError as error:
        if error.code != "wrong_credentials":  # off already, or support staff who must keep it
            messages.error(request, " ".join(error.messages))
            return redirect("two_step")
        sign_in.sign_in_failure_record(email=user.email, ip=ip)
        form.add_error(None, error)
        return _setup_page(request, turn_off_form=form)
    messages.success(request, "Two-step sign-in is off: your password alone signs you in.")
    return redirect("two_step")


@login_required
@require_POST
def two_step_recovery_codes(request):
    form = AppCodeForm(request.POST)
    authenticator = two_step.authenticator_for_user(request.user)
    if authenticator is None or not authenticator.is_on:
        messages.error(request, "Two-step sign-in is not on.")
        return redirect("two_step")
    if not form.is_valid():
        return _setup_page(request, codes_form=form)
    user, ip = request.user, client_ip(request)
    refusal = sign_in.sign_in_refusal(email=user.email, ip=ip)
    if refusal:
        form.add_error(None, refusal.message)
        return _refused(_setup_page(request, codes_form=form), refusal)
    if not two_step.code_check(authenticator=authenticator, code=form.cleaned_data["code"], recovery=False):
        sign_in.sign_in_failure_record(email=user.email, ip=ip)
        form.add_error("code", "That code is not right. Enter the 6-digit code your app shows now.")
        return _setup_page(request, codes_form=form)
    codes = two_step.recovery_codes_regenerate(authenticator=authenticator)
    return _recovery_codes_page(request, codes, regenerated=True)


# --- Support staff must turn it on ---------------------------------------------------------------------------------

# Pages a staff user without two-step sign-in still reaches: the way to turn it on or out, and those that need no
# sign-in at all (short links, unsubscribe, the health check, the reporting API with its bearer keys).
_OPEN_VIEWS = frozenset(
    {
        "login",
        "logout",
        "two_step",
        "two_step_start",
        "two_step_confirm",
        "two_step_sign_in",
        "short-link",
        "short-link-inspect",
        "email-unsubscribe",
        "healthz",
    }
)


class StaffTwoStepMiddleware:
    """With STAFF_REQUIRE_TWO_STEP, a signed-in support user without two-step sign-in is sent to its setup page from
    every other page (the admin included), and comes back to the page asked for once it is on. With the setting off
    (the default) it costs nothing: not even the session is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.STAFF_REQUIRE_TWO_STEP:
            return None
        match = request.resolver_match
        if match.view_name in _OPEN_VIEWS or match.namespace == "api":
            return None
        if not two_step.staff_must_set_up(request.user):
            return None
        next_url = request.get_full_path() if request.method == "GET" else ""
        return redirect(_with_next(reverse("two_step"), next_url))
