"""Operations on the database: each function takes a Session and owns its commit."""
