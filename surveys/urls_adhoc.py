from django.urls import path

from surveys import views_adhoc

urlpatterns = [
    path("questions-ad-hoc/", views_adhoc.adhoc_candidates, name="adhoc_candidates"),
]
