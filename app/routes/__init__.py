"""HTTP routes, one blueprint per area of the contract."""
