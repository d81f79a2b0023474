package rules

import "strings"

// schoolWords are the words of school names that say what kind of school it
// is rather than which one. An alias made only of these (and common words)
// names no particular school.
var schoolWords = wordSet(`
school schools primary academy academies infant infants junior juniors secondary
high college grammar community church of england ce c e cofe rc r roman catholic
the and free foundation voluntary aided controlled va vc methodist nursery sixth
form upper lower middle prep preparatory trust federation village county technical
studio all through first learning centre center campus girls boys mixed special
language sports arts science business enterprise international independent day
memorial parish united school's st saint saints sch uk www ac org com co net
federated multi learning pupil referral unit pru alternative provision
`)

// dedicationWords mark a church dedication ("St Mary's", "Holy Trinity", "Our
// Lady of Lourdes"): hundreds of schools, churches and hospitals share these,
// so an alias whose only distinctive word is a dedication is ambiguous.
var dedicationWords = wordSet(`st saint saints holy our lady blessed sacred christ
christs christ's good shepherd trinity`)

// commonWords are everyday English words, including the landscape words school
// names are built from. An alias whose distinctive part is only these ("Park
// School", "Oak Academy") is a common phrase by itself.
var commonWords = wordSet(`
a about above after again against all also am an and any are as at away back
be because been before being below between both but by can could did do does
doing down during each few for from further get got had has have having he her
here hers him his how i if in into is it its just like make many me more most
my new no nor not now of off on once one only or other our out over own same
see she should so some such than that the their them then there these they
this those through to too under until up very was we were what when where which
while who whom why will with would you your old good great little big small
long best last next early late young top own right left high low east west
north south upper lower middle central new old main park hill hills green
greens field fields wood woods woodland oak oaks ash elm beech birch pine
willow willows cedar cedars holly ivy rose roses lime limes maple river rivers
brook brooks stream valley vale meadow meadows bridge bridges castle abbey
priory grange manor hall court house houses gate gates lane road street way
view views side end mount mill mills farm orchard orchards garden gardens grove
lake lakes pond sea bay coast cliff cliffs harbour harbor port beach shore
island down downs heath moor common cross crossing church chapel tower spring
springs well wells water waters stone stones rock rocks sun star stars moon
sky light bright hope faith peace joy grace unity spire arch forest glade
ridge rise ford heights summit valley point bank banks marsh fen dale dene
city town village county kingdom royal king kings queen queens prince princess
duke victoria albert george charles william elizabeth edward henry james
anne mary john peter paul luke mark matthew andrew michael thomas stephen
joseph david martin margaret catherine helen nicholas lawrence leonard
gabriel bartholomew augustine benedict francis patrick edmund richard
alban swithun chad cuthbert aidan bede dunstan hilda anselm hugh
red white blue golden gold silver black
`)

func wordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
