package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
)

// MetricsCSVFile is the name of the spreadsheet copy of metrics.jsonl in a run directory.
const MetricsCSVFile = "metrics.csv"

// metricsColumns are the CSV columns: the json names of erl.Record's fields in declaration
// order, so that the two files name each metric alike and a new field cannot be left out;
// metricsFields are the fields' indices. A field that holds a list (the counts of each retried
// task) has no column, as a cell holds one number: it stays in metrics.jsonl.
var metricsColumns, metricsFields = func() ([]string, []int) {
	t := reflect.TypeFor[erl.Record]()
	var cols []string
	var fields []int
	for i := range t.NumField() {
		if t.Field(i).Type.Kind() == reflect.Slice {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("report: Record field %s has no json name", t.Field(i).Name))
		}
		cols, fields = append(cols, name), append(fields, i)
	}
	return cols, fields
}()

// csvRow formats r in metricsColumns order; a nil pointer is an empty cell.
func csvRow(r erl.Record) []string {
	v := reflect.ValueOf(r)
	row := make([]string, len(metricsFields))
	for i, field := range metricsFields {
		f := v.Field(field)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.Int, reflect.Int64:
			row[i] = strconv.FormatInt(f.Int(), 10)
		case reflect.Float64:
			row[i] = strconv.FormatFloat(f.Float(), 'g', -1, 64)
		default:
			panic(fmt.Sprintf("report: no CSV format for Record field of kind %s", f.Kind()))
		}
	}
	return row
}

// WriteCSV writes recs to the run directory dir as metrics.csv, a header of the metrics'
// names and a row a record, whole or not at all.
func WriteCSV(dir string, recs []erl.Record) error {
	return atomicfile.Write(filepath.Join(dir, MetricsCSVFile), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(metricsColumns); err != nil {
			return err
		}
		for _, r := range recs {
			if err := cw.Write(csvRow(r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
