"""`aift roadmap`: a campus planned over years and GPU generations, as one multi-period MILP."""
