"""Signals other apps listen to.

``course_completed`` is sent synchronously, inside the request, right after a quiz attempt that leaves every
published module of the course completed has been committed. It is sent on the transition *and again on every
later pass* of a quiz of an already-completed course, so a receiver that failed once gets another chance:
receivers must be idempotent (issue a certificate only if none exists yet).

Keyword arguments: ``user``, ``course``, ``attempt`` (the sealed :class:`quizzes.models.Attempt`) and
``newly_completed`` (True only on the attempt that completed the course). ``sender`` is ``Attempt``.
The receivers run inside one ``transaction.atomic()`` block after the attempt itself is committed: an exception
from a receiver rolls back the receivers' writes, is logged, and never undoes the learner's pass (the next pass
of a quiz of the completed course sends the signal again).
"""
from django.dispatch import Signal

course_completed = Signal()
