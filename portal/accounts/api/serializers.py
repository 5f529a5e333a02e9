"""Serializers of the accounts API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from rest_framework import serializers

__all__ = ["CredentialsSerializer", "ProfileSerializer", "TokenSerializer"]


class CredentialsSerializer(serializers.Serializer[Any]):
    """A user name and password, checked against the portal's users."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                "user name or password is wrong, or the account is disabled", code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer[Any]):
    """An API token: send it as ``Authorization: Token <token>``."""

    token = serializers.CharField()
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)


class ProfileSerializer(serializers.Serializer[Any]):
    """Who is asking: name, role and capabilities."""

    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    capabilities = serializers.ListField(child=serializers.CharField())
    is_staff = serializers.BooleanField()
