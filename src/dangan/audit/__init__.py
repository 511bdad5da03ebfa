"""Audit (审计): the auditor's use cases over the ledger — verify it whole, prove entries,
sign checkpoints — and `dangan ledger`."""
