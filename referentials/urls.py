from django.urls import path

from referentials import views

app_name = "referentials"

urlpatterns = [
    path("", views.establishment_list, name="establishment_list"),
    path("etablissements/<str:finess>/", views.establishment_detail, name="establishment_detail"),
]

# --- curation: curator tools and the establishments' proposals (referentials.views_curation)
from referentials import views_curation  # noqa: E402

urlpatterns += [
    path(
        "gestion/etablissements/<str:finess>/corrections/",
        views_curation.establishment_corrections,
        name="curation_corrections",
    ),
    path(
        "gestion/corrections/<int:pk>/lever/",
        views_curation.correction_clear,
        name="curation_correction_clear",
    ),
    path(
        "gestion/etablissements/<str:finess>/contacts/",
        views_curation.establishment_contacts,
        name="curation_contacts",
    ),
    path(
        "gestion/contacts/<int:pk>/modifier/",
        views_curation.contact_edit,
        name="curation_contact_edit",
    ),
    path(
        "gestion/contacts/<int:pk>/desactiver/",
        views_curation.contact_deactivate,
        name="curation_contact_deactivate",
    ),
    path(
        "gestion/contacts/<int:pk>/verifier/",
        views_curation.contact_verify,
        name="curation_contact_verify",
    ),
    path("gestion/propositions/", views_curation.proposal_list, name="curation_proposal_list"),
    path(
        "gestion/propositions/<int:pk>/",
        views_curation.proposal_review,
        name="curation_proposal_review",
    ),
    path(
        "etablissements/<str:finess>/proposer/",
        views_curation.establishment_propose,
        name="curation_propose",
    ),
]

# --- RPPS identity claims (referentials.views_claims)
from referentials import views_claims  # noqa: E402

urlpatterns += [
    path(
        "professionnels/rattachement/",
        views_claims.claim_request,
        name="claim_request",
    ),
    path(
        "professionnels/rattachement/<int:pk>/retirer/",
        views_claims.claim_withdraw,
        name="claim_withdraw",
    ),
    path("gestion/rattachements/", views_claims.claim_list, name="claim_list"),
    path("gestion/rattachements/<int:pk>/", views_claims.claim_decide, name="claim_decide"),
]

# --- establishments nobody would be told about, for curators (referentials.views_contacts)
from referentials import views_contacts  # noqa: E402

urlpatterns += [
    path(
        "gestion/sans-contact/",
        views_contacts.establishments_without_contact,
        name="curation_without_contacts",
    ),
]
