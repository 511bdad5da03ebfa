"""Intake (接收): how submissions arrive — over HTTP from business systems, from the
operator's CLI, from the demo loader — and the one `submit` use case they all call:
idempotency (source id and Idempotency-Key), tracking, archiving and the callback notice."""
