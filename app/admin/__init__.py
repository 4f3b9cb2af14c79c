"""The administrator's pages: invite links for invite-only registration."""
