# An old snapshot: the dag has changed since.
