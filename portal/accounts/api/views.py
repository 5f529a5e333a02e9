"""The accounts API: get and revoke a token, and see who you are.

``POST /api/auth/token/`` takes a user name and password and answers the
user's token (throttled per client: ``VISIONKIT_TOKEN_RATE``, 10 a minute by
default); ``DELETE /api/auth/token/`` revokes the caller's token;
``GET /api/auth/me/`` says who the caller is and what their role may do.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from portal.accounts import selectors, services
from portal.accounts.api.serializers import (
    CredentialsSerializer,
    ProfileSerializer,
    TokenSerializer,
)
from portal.accounts.permissions import role_of

__all__ = ["MeView", "TokenView"]


class TokenView(APIView):
    """Exchange credentials for an API token, or revoke the caller's."""

    throttle_scope = "token"

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self) -> list[BaseThrottle]:
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        request=CredentialsSerializer,
        responses={200: TokenSerializer},
        auth=[],
        summary="Get an API token",
    )
    def post(self, request: Request) -> Response:
        """The user's token for a user name and password (400 when they are wrong)."""
        credentials = CredentialsSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        user = credentials.validated_data["user"]
        token = services.issue_token(user=user)
        role = role_of(user)
        answer = {"token": token.key, "username": user.get_username(), "role": role and role.group}
        return Response(TokenSerializer(answer).data)

    @extend_schema(
        request=None, responses={204: OpenApiResponse(description="revoked")},
        summary="Revoke the caller's token",
    )  # fmt: skip
    def delete(self, request: Request) -> Response:
        """Revoke the caller's token (204); other clients using it get 401 from now on."""
        services.revoke_token(user=selectors.acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The caller's name, role and capabilities."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ProfileSerializer}, summary="Who am I")
    def get(self, request: Request) -> Response:
        """The caller's profile: name, role, capabilities."""
        return Response(ProfileSerializer(selectors.profile(request.user)).data)
