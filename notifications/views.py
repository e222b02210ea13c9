"""The in-app notification centre: a user's own notifications and preferences, nobody else's."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import selectors, services
from notifications.forms import PreferenceForm
from notifications.services import MUTABLE_KINDS

PAGE_SIZE = 30


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.notifications_of(user=request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.pages_list = list(paginator.get_elided_page_range(page.number))  # type: ignore[attr-defined]
    return render(
        request,
        "notifications/inbox.html",
        {"title": "Notifications", "page": page},
    )


@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_of(user=request.user, pk=pk)
    services.notification_mark_read(notification=notification, user=request.user)
    # Opening a notification follows its link, when it has one inside the service.
    if notification.link and url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.link)
    return redirect("notifications:inbox")


@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, f"{count} notification(s) marquée(s) comme lue(s).")
    return redirect("notifications:inbox")


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    preference = selectors.preference_of(user=request.user)
    initial = {
        "digest_mode": preference.digest_mode,
        "emailed_kinds": [k for k in MUTABLE_KINDS if k not in preference.muted_kinds],
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.preference_update(
            user=request.user,
            digest_mode=form.cleaned_data["digest_mode"],
            muted_kinds=form.muted_kinds(),
        )
        messages.success(request, "Vos préférences de notification sont enregistrées.")
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"title": "Préférences de notification", "form": form},
    )
