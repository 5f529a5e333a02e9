"""The account page: who you are, your API token (shown once when made), your password.

Any logged-in user may manage their own token and password; the role only
decides what the token opens.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from portal.accounts import selectors, services

__all__ = ["account", "change_password", "new_token", "revoke_token"]


@login_required
@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    """The account page."""
    user = selectors.acting_user(request)
    context = {
        "profile": selectors.profile(user),
        "has_token": Token.objects.filter(user=user).exists(),
        "new_key": request.session.pop("new_token", None),  # shown once, never again
        "form": PasswordChangeForm(user),
    }
    return render(request, "accounts/account.html", context)


@login_required
@require_POST
def new_token(request: HttpRequest) -> HttpResponse:
    """Make a new API token (the old one stops working) and show it once."""
    user = selectors.acting_user(request)
    services.revoke_token(user=user)
    request.session["new_token"] = services.issue_token(user=user).key
    messages.success(request, "A new API token was made; copy it now, it is shown only once.")
    return redirect("account")


@login_required
@require_POST
def revoke_token(request: HttpRequest) -> HttpResponse:
    """Revoke the API token: every script using it gets 401 from now on."""
    if services.revoke_token(user=selectors.acting_user(request)):
        messages.success(request, "Your API token is revoked; scripts using it get 401 now.")
    return redirect("account")


@login_required
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    """Change the password (the old one is asked for); this session stays logged in."""
    user = selectors.acting_user(request)
    form = PasswordChangeForm(user, request.POST)
    if not form.is_valid():
        has_token = Token.objects.filter(user=user).exists()
        context = {"profile": selectors.profile(user), "form": form,
                   "has_token": has_token, "new_key": None}  # fmt: skip
        return render(request, "accounts/account.html", context, status=400)
    form.save()
    update_session_auth_hash(request, form.user)
    messages.success(request, "Your password is changed.")
    return redirect("account")
