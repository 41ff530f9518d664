"""The one domain signal: creating a session runs the assignment policy in its transaction."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from assignment import policy
from assignment.models import ChatSession


@receiver(post_save, sender=ChatSession, dispatch_uid="assign_new_session")
def assign_new_session(sender, instance: ChatSession, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        policy.session_assign_on_creation(session=instance)
