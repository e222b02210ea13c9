"""``/api/v1/dictionnaire/``: the public read-only API of the dictionary (namespace
"api_dictionary"), mounted in config/urls.py before the authenticated ``api/v1/`` routes."""

from django.urls import path

from referentials.api_dictionary import (
    CodeListDetailApi,
    CodeListListApi,
    DefinitionDetailApi,
    DefinitionListApi,
    RuleDetailApi,
    RuleListApi,
    public,
)

app_name = "api_dictionary"

urlpatterns = [
    path("definitions/", public(DefinitionListApi), name="definition_list"),
    path("definitions/<slug:code>/", public(DefinitionDetailApi), name="definition_detail"),
    path("regles/", public(RuleListApi), name="rule_list"),
    path("regles/<slug:code>/", public(RuleDetailApi), name="rule_detail"),
    path("listes/", public(CodeListListApi), name="code_list_list"),
    path("listes/<slug:code>/", public(CodeListDetailApi), name="code_list_detail"),
]
