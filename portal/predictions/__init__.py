"""Every prediction made through the portal: its image, contract, masks, overlay and statistics."""
