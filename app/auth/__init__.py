"""Registration, sign-in and sign-out."""
