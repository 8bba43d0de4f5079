module github.com/erlgo/erlgo

go 1.26
