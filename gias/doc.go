// Package gias reads the register of schools in England that the
// Department for Education publishes as "Get Information about Schools"
// (GIAS): the establishment CSV, edubasealldataYYYYMMDD.csv, and turns the
// open establishments of the chosen local authorities into schoolwatch
// schools (config.School), ready to be written as a schools_file.
//
// It is where a local authority's or trust's config starts: `schoolwatch
// import gias` is Read, then Write. The file has well over a hundred
// columns whose order changes between releases, so columns are found by
// their header names. It is published in Windows-1252; a copy saved as
// UTF-8 is read too (each field is taken as UTF-8 when it is valid UTF-8,
// as Windows-1252 otherwise). A malformed row is reported with its line
// number and skipped; every other row is still read.
//
// For each school it fills in what the register knows (name, town,
// website domain, trust, places nearby) and what it suggests: a short
// name ("St Mary's" for "St Mary's Church of England Primary School"), an
// alias joining it to the town, and leaders' addresses from templates
// such as head=head@{domain}. A domain or alias that several schools
// share says nothing about one of them, and is left out.
package gias
