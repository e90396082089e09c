from django.dispatch import Signal

# Sent with ``user`` once the owner of an account has followed the link sent to its email address (certificates
# listens: a course completed before verification is certified now).
email_verified = Signal()
