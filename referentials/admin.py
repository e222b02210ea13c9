from django.contrib import admin

from referentials.models import Establishment, LegalEntity


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["finess", "name", "territory_code"]
    search_fields = ["finess", "name"]


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ["finess", "name", "category_label", "territory_code", "status"]
    list_filter = ["status", "territory_code"]
    search_fields = ["finess", "name"]
    raw_id_fields = ["legal_entity"]
