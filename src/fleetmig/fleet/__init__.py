"""The fleet model: policy, layout, values layers, components and charts of one fleet repository."""
