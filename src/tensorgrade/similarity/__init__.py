"""Code similarity across a class, per exercise, with copydetect (winnowing over Pygments tokens).

The stub and the reference solution of each exercise are boilerplate: code students share because the
course gave it to them (or because it is the expected answer) scores 0. Pairs at or above course.yml's
`similarity.threshold` go to OUT/similarity.json, OUT/similarity.html (side by side), the summary and the
gradebook's review column. Similarity is never a penalty, only a reason to look.
"""
