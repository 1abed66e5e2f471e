"""PostgreSQL's fast paths behind one seam: statements prepared once per connection, and
COPY for inserting many rows. Each takes the models it works on as arguments and falls
back to the ORM elsewhere."""
