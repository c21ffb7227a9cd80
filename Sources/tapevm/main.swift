print("tapevm")
