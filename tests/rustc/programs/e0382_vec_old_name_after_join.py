"""A thread hands a list back through join under a new name; the old name stays moved."""
from rustsync import spawn


def main():
    log = [1]

    def work():
        log.append(2)
        return log

    handle = spawn(work)
    back = handle.join()
    print(back)
    print(len(log))


main()
