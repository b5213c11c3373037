module github.com/compass-go/compass

go 1.26
