from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still (hashes start with ``argon2``), at the lowest cost: tests hash a lot."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
