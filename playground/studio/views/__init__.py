"""The studio's pages, one module per page. View modules never import each other: what
several share is a query or an operation of `playground.generations`."""
