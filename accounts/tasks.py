from celery import shared_task

from accounts import emails


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_invitation_email(invitation_id: int, token: str) -> None:
    emails.invitation_send(invitation_id=invitation_id, token=token)
