"""REST API of surveys and campaigns, under /api/v1/ (see config/urls.py)."""

urlpatterns: list = []
