"""manage.py commands of the project (imports, erasure, the bounce mailbox, the demo seed): entry points, like URLconfs."""
