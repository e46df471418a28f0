"""Key lifecycle: the sealing keys the controller holds, renews and escrows.

`keystore` keeps the keys of the key Secrets in memory (an immutable ring snapshot per change),
`renewal` loads, generates and renews key Secrets, and `escrowkeeper` restores escrowed keys at start
and keeps every held key escrowed. The key-Secret format and the escrow logic are the core's
(`sealkit.keysecrets`, `sealkit.escrow`); this room only schedules them.
"""
