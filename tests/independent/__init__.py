"""An independent verifier of Dangan's audit ledger, written from the specifications alone.

Nothing here imports `dangan`: an outside auditor re-checks the ledger's Merkle proofs, signed
checkpoints and witness cosignatures with code that shares nothing with the code that made them.
"""
