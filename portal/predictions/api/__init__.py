"""The predictions API: serializers and thin views over the app's services and selectors."""
