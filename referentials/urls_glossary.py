from django.urls import path

from referentials import views_glossary

app_name = "glossary"

urlpatterns = [
    path("", views_glossary.definition_list, name="definition_list"),
    path("<slug:code>/", views_glossary.definition_detail, name="definition_detail"),
]
