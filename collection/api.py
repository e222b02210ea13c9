"""REST API for establishments' systems: assignments and answers, under /api/v1/."""

urlpatterns: list = []
