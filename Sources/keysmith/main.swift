import KeysmithServer
print("x")
