"""The respondent's web form, its live check, and the history of a value."""

from django.urls import path

from collection import views_form

urlpatterns = [
    path("demandes/<int:pk>/", views_form.assignment_form, name="assignment_form"),
    path("demandes/<int:pk>/verifier/", views_form.assignment_check, name="assignment_check"),
    path("valeurs/<int:pk>/historique/", views_form.value_history, name="value_history"),
]
