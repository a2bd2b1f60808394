"""The channel report (issue #7): for owners and staff; the monthly cost per channel is the owner's to enter."""
