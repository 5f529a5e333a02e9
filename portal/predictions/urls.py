"""URLs of the predictions API, under ``/api/predictions/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.predictions.api import views

app_name = "predictions"

urlpatterns: list[URLPattern] = [
    path("", views.PredictionList.as_view(), name="list"),
    path("batch/", views.BatchView.as_view(), name="batch"),
    path("<int:pk>/", views.PredictionDetail.as_view(), name="detail"),
    path("<int:pk>/image/", views.ImageView.as_view(), name="image"),
    path("<int:pk>/overlay/", views.OverlayView.as_view(), name="overlay"),
    path("<int:pk>/masks/<str:cls>/", views.MaskView.as_view(), name="mask"),
    path("<int:pk>/export/", views.ExportView.as_view(), name="export"),
    path("<int:pk>/review/", views.ReviewView.as_view(), name="review"),
]
