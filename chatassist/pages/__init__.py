"""The Chat Assistant settings page: the admin face over ``staff.services`` and
``assignment.config``. Views and forms here only translate HTTP to those services."""
