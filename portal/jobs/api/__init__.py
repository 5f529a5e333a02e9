"""The jobs API: serializers and thin views over the app's services and selectors."""
