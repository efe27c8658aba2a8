import InterrogateTUI

await InterrogateApp.main()
