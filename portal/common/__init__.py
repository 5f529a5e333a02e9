"""What the portal's apps share: the API's error shape, pagination, and safe handling of uploads."""
