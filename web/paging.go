package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// pageParam is the page asked for (from 1), and whether one was.
func pageParam(r *http.Request) (int, bool, error) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, true, &httpError{http.StatusBadRequest, fmt.Sprintf("page is a number from 1, not %q", v)}
	}
	return n, true, nil
}

// paging is one page of a list of total rows, size to a page: rows From
// (counting from 0) up to To.
type paging struct {
	Total, Size, Page, Pages int
	From, To                 int
}

// pageOf is the nth page of total rows; a page past the last is not found.
// The first page of no rows is empty.
func pageOf(total, size, n int) (paging, error) {
	pages := max(1, (total+size-1)/size)
	if n > pages {
		fill := fmt.Sprintf("%d pages", pages)
		if pages == 1 {
			fill = "one page"
		}
		return paging{}, &httpError{http.StatusNotFound, fmt.Sprintf("no page %d: the %d proposals fill %s of %d", n, total, fill, size)}
	}
	return paging{Total: total, Size: size, Page: n, Pages: pages, From: (n - 1) * size, To: min(n*size, total)}, nil
}

// pageLinks are the addresses of a page's neighbours, empty where there
// is none, and the rows it shows counting from 1, for the page's template.
type pageLinks struct {
	paging
	FirstRow, LastRow       int
	First, Prev, Next, Last string
}

// links are the page's neighbours among the pages at path (such as
// /t/ID/proposals), as addresses with query (a query of their own, such as
// format=json&, first) then params (the route's, such as all=1&), then
// the page.
func (p paging) links(path, params, query string) pageLinks {
	href := func(n int) string {
		return path + "?" + query + params + "page=" + strconv.Itoa(n)
	}
	l := pageLinks{paging: p, FirstRow: p.From + 1, LastRow: p.To, First: href(1), Last: href(p.Pages)}
	if p.Page > 1 {
		l.Prev = href(p.Page - 1)
	}
	if p.Page < p.Pages {
		l.Next = href(p.Page + 1)
	}
	return l
}

// header is the paging of a page's JSON: the count of every row, and the
// neighbouring pages in a Link header (RFC 8288).
func (p paging) header(path, params string) http.Header {
	l := p.links(path, params, "format=json&")
	var links []string
	for _, rel := range []struct{ name, href string }{{"first", l.First}, {"prev", l.Prev}, {"next", l.Next}, {"last", l.Last}} {
		if rel.href != "" {
			links = append(links, fmt.Sprintf("<%s>; rel=%q", rel.href, rel.name))
		}
	}
	return http.Header{"X-Total-Count": {strconv.Itoa(p.Total)}, "Link": {strings.Join(links, ", ")}}
}
