"""The generations app's own endpoints: the receiver of the service's callbacks."""
