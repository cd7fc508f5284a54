"""Signals other apps listen to, so that organisations need not know them."""

from django.dispatch import Signal

# Sent inside the transaction of ``organization_update`` when the system administrator moves
# an organisation to another division (kwargs: organization, old_division_id,
# new_division_id). Receivers move what follows the organisation's current division (e.g. its
# instruments, which regulators see by division) and return how many rows they moved; the
# counts go into the audit record of the change.
organization_moved = Signal()
