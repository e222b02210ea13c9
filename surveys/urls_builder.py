from django.urls import path

from surveys import views_builder as views

urlpatterns = [
    path("questionnaires/", views.survey_list, name="builder_survey_list"),
    path("questionnaires/nouveau/", views.survey_create, name="builder_survey_create"),
    path("questionnaires/<int:pk>/", views.survey_detail, name="builder_survey_detail"),
    path(
        "questionnaires/<int:pk>/nouvelle-version/",
        views.version_new,
        name="builder_version_new",
    ),
    path("questionnaires/versions/<int:pk>/", views.version_edit, name="builder_version_edit"),
    path(
        "questionnaires/versions/<int:pk>/apercu/",
        views.version_preview,
        name="builder_version_preview",
    ),
    path(
        "questionnaires/versions/<int:pk>/sections/",
        views.section_add,
        name="builder_section_add",
    ),
    path("questionnaires/sections/<int:pk>/", views.section_edit, name="builder_section_edit"),
    path(
        "questionnaires/sections/<int:pk>/supprimer/",
        views.section_delete,
        name="builder_section_delete",
    ),
    path(
        "questionnaires/sections/<int:pk>/deplacer/",
        views.section_move,
        name="builder_section_move",
    ),
    path(
        "questionnaires/sections/<int:pk>/questions/",
        views.question_add,
        name="builder_question_add",
    ),
    path("questionnaires/questions/<int:pk>/", views.question_edit, name="builder_question_edit"),
    path(
        "questionnaires/questions/<int:pk>/supprimer/",
        views.question_delete,
        name="builder_question_delete",
    ),
    path(
        "questionnaires/questions/<int:pk>/deplacer/",
        views.question_move,
        name="builder_question_move",
    ),
    path(
        "questionnaires/definitions/",
        views.definition_search,
        name="builder_definition_search",
    ),
]
